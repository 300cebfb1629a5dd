package dev.txstep;

import static dev.txstep.testing.Workflows.inWorkflow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txstep.observe.StepObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

/**
 * The embedded default on a file, as the pipeline example runs it: H2 closes its file channel when
 * the thread using it is interrupted, so a step whose worker thread was interrupted failed (and,
 * once the channel was closed, every later one). txstep must never interrupt a thread running H2,
 * and must retry only what the database reports as transient: every step's function then runs
 * exactly once, and nothing is retried.
 */
class H2FileStoreTest {

    private static final int STEPS = 10_000;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "settings \"{0}\"")
    @ValueSource(strings = {"", ";WRITE_DELAY=0"})
    void sequentialStepsOnAFileCallEachFunctionOnceAndRetryNothing(String settings) {
        AtomicInteger retries = new AtomicInteger();
        StepObserver countRetries = new StepObserver() {
            @Override
            public void stepRetried(String stepName, String sqlState) {
                retries.incrementAndGet();
            }
        };
        String url = "r2dbc:h2:file:///" + dir.toAbsolutePath().resolve("steps") + settings;
        AsyncDatasource ds = AsyncDatasource.create(DatasourceConfig.builder().url(url).observer(countRetries)
                .build()).block();
        AtomicInteger calls = new AtomicInteger();
        try {
            ds.runTxStepAsync(tx -> tx.execute("CREATE TABLE effects (n INT)")).block();
            Long last = inWorkflow("file-steps", Flux.range(0, STEPS)
                    .concatMap(n -> ds.runTxStepAsync(DatasourceOptions.named("effect"), tx -> {
                        calls.incrementAndGet();
                        return tx.execute("INSERT INTO effects VALUES ($1)", n);
                    }))
                    .last()).block(Duration.ofMinutes(5));
            assertEquals(1L, last);
            assertEquals(STEPS, calls.get(), "function calls");
            assertEquals(0, retries.get(), "retries");
            assertEquals(STEPS, ds.runTxStepAsync(tx -> tx.query("SELECT COUNT(*) FROM effects",
                    (row, meta) -> row.get(0, Long.class)).single()).block().intValue(), "effect rows");
        } finally {
            ds.close().block(Duration.ofSeconds(30));
        }
    }
}
