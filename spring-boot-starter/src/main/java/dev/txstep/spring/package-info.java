/**
 * Spring Boot auto-configuration for txstep: add {@code dev.txstep:txstep-spring-boot-starter}, an
 * R2DBC driver and {@code spring.r2dbc.url}, and inject {@link dev.txstep.AsyncDatasource} (or
 * {@link dev.txstep.BlockingDatasource}) with {@code datasource_outputs} migrated at start-up.
 *
 * <ul>
 *   <li>{@link dev.txstep.spring.TxstepAutoConfiguration}: the datasource over the application's
 *       R2DBC connection factory, closed with the context;</li>
 *   <li>{@link dev.txstep.spring.TxstepMetricsAutoConfiguration}: step meters in the application's
 *       Micrometer registry;</li>
 *   <li>{@link dev.txstep.spring.TxstepHealthAutoConfiguration}: the {@code txstep} health
 *       contributor;</li>
 *   <li>{@link dev.txstep.spring.TxstepWebFluxAutoConfiguration}: the Idempotency-Key web filter,
 *       when {@code txstep.web.idempotency-key.enabled=true}.</li>
 * </ul>
 * Settings: {@link dev.txstep.spring.TxstepProperties} ({@code txstep.*}).
 */
package dev.txstep.spring;
