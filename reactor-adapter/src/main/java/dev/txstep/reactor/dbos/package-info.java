/**
 * The DBOS Java integration: {@link dev.txstep.reactor.dbos.DbosTxSteps} runs transaction steps
 * as steps of DBOS workflows, keyed by DBOS's workflow and step ids. Optional: needs
 * {@code dev.dbos:transact} on the class path.
 */
package dev.txstep.reactor.dbos;
