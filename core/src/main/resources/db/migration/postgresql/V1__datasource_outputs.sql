-- The recorded outputs of transaction steps. One row per (workflow_id, step_id), written in the
-- step's own transaction; its presence means the step committed.
CREATE TABLE "${schema}".datasource_outputs (
    workflow_id   text    NOT NULL,
    step_id       integer NOT NULL,
    step_name     text    NOT NULL,
    output        text,
    error         text,
    serialization text,
    created_at    bigint  NOT NULL DEFAULT (EXTRACT(EPOCH FROM now()) * 1000)::bigint,
    PRIMARY KEY (workflow_id, step_id)
);
