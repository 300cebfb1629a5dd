-- The recorded outputs of transaction steps (MariaDB). The workflow id is compared byte for byte
-- and without trailing-space padding (utf8mb4_nopad_bin), as PostgreSQL compares text: 'a' and
-- 'a ' are different workflows. InnoDB keys are at most 3072 bytes, so beside the 4-byte step id
-- the id holds at most 767 four-byte characters. The outputs are LONGTEXT: TEXT stops at 64 KiB.
CREATE TABLE `${schema}`.datasource_outputs (
    workflow_id   VARCHAR(767) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    step_id       INT      NOT NULL,
    step_name     TEXT     NOT NULL,
    output        LONGTEXT NULL,
    error         LONGTEXT NULL,
    serialization TEXT     NULL,
    created_at    BIGINT   NOT NULL DEFAULT (CAST(UNIX_TIMESTAMP(CURRENT_TIMESTAMP(3)) * 1000 AS SIGNED)),
    PRIMARY KEY (workflow_id, step_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_nopad_bin;
