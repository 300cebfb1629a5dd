-- The recorded outputs of transaction steps (H2). VARCHAR rather than TEXT: H2 maps TEXT to a
-- CLOB, which drivers hand back as a stream rather than a string. H2's VARCHAR holds up to
-- 1 048 576 characters.
CREATE TABLE "${schema}".datasource_outputs (
    workflow_id   VARCHAR NOT NULL,
    step_id       INTEGER NOT NULL,
    step_name     VARCHAR NOT NULL,
    output        VARCHAR,
    error         VARCHAR,
    serialization VARCHAR,
    created_at    BIGINT  DEFAULT CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000 AS BIGINT) NOT NULL,
    PRIMARY KEY (workflow_id, step_id)
);
