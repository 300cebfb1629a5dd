-- Retention deletes by age (pruneOlderThan) find old rows through this index instead of a scan.
CREATE INDEX datasource_outputs_created_at ON `${schema}`.datasource_outputs (created_at);
