package dev.txstep.reliability;

import dev.txstep.AsyncDatasource;
import dev.txstep.DatasourceConfig;
import dev.txstep.DatasourceOptions;
import dev.txstep.reactor.Workflow;
import dev.txstep.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * One process of {@link ConcurrentStartupTest}: waits at a start barrier, creates an
 * {@link AsyncDatasource} on the given schema (which runs the migration) and runs one step in a
 * workflow of its own, proof that the table it found works. The step's output is the wall-clock
 * interval of this process's create, so the parent learns from the recorded rows, not from logs,
 * whether the creates overlapped.
 *
 * <p>Arguments: schema, workflow id, ready file (written when the JVM is warm and waiting), go
 * file (the barrier: the parent creates it once every child is ready). Exit code 0 on success;
 * anything else is a failure (the stack trace goes to the output file).
 */
public final class ConcurrentStartupMain {

    /** How long a child waits for the barrier before giving up (the parent died, say). */
    private static final Duration BARRIER_TIMEOUT = Duration.ofMinutes(2);

    private ConcurrentStartupMain() {
    }

    public static void main(String[] args) throws Exception {
        String schema = args[0];
        String workflowId = args[1];
        Path ready = Path.of(args[2]);
        Path go = Path.of(args[3]);
        int exit = 1;
        try {
            // Warm up before the barrier so the creates start together: resolve the URL and build the
            // configuration (which loads the R2DBC driver), so the class loading is done.
            DatasourceConfig config = DatasourceConfig.builder()
                    .url(TestDatabases.postgresR2dbcUrl()).schema(schema).initialPoolSize(0).maxPoolSize(1).build();
            Files.writeString(ready, "ready");
            ChildJvm.awaitFile(go, BARRIER_TIMEOUT);

            long createStart = System.currentTimeMillis();
            AsyncDatasource ds = AsyncDatasource.create(config).block(Duration.ofMinutes(1));
            long createEnd = System.currentTimeMillis();
            try {
                Workflow.run(workflowId, ds.runTxStepAsync(DatasourceOptions.named("started"),
                        session -> Mono.just(createStart + "-" + createEnd))).block(Duration.ofSeconds(30));
            } finally {
                ds.close().block(Duration.ofSeconds(30));
            }
            exit = 0;
        } catch (Throwable e) {
            e.printStackTrace();
        }
        // Flyway's and the drivers' threads must not keep the process alive.
        System.exit(exit);
    }
}
