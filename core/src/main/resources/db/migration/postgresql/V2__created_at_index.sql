-- Retention deletes by age (pruneOlderThan) find old rows through this index instead of a scan.
-- BRIN, not B-tree: created_at grows with the table's physical order, so a block-range summary
-- finds old rows as well, is a few pages in size, and costs a step's insert next to nothing
-- (a B-tree would add an index insertion to every recorded step).
CREATE INDEX datasource_outputs_created_at ON "${schema}".datasource_outputs USING brin (created_at);
