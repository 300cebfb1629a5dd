package dev.txstep.examples.readme;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.micrometer.MicrometerStepObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/** The README's snippets on read-only steps, retention and metrics, each a statement in context. */
final class OperationsSnippets {

    private static final Logger log = LoggerFactory.getLogger(OperationsSnippets.class);

    private OperationsSnippets() {
    }

    static Mono<Long> readOnly(AsyncDatasource ds, String id) {
        // README begin
        Mono<Long> balance = ds.runTxStepAsync(DatasourceOptions.named("balance").asReadOnly(),
                s -> s.query("SELECT balance FROM accounts WHERE id = $1", (row, meta) -> row.get(0, Long.class), id).single());
        // README end
        return balance;
    }

    static void retention(AsyncDatasource ds) {
        // README begin
        ds.pruneOlderThan(Duration.ofDays(7)).subscribe(deleted -> log.info("pruned {} outputs", deleted));
        ds.pruneWorkflows(List.of("order-41", "order-42")).block();   // finished workflows
        // README end
    }

    static DatasourceConfig metrics(String url, MeterRegistry meterRegistry) {
        // README begin
        DatasourceConfig config = DatasourceConfig.builder().url(url)
                .observer(new MicrometerStepObserver(meterRegistry)).build();
        // README end
        return config;
    }
}
