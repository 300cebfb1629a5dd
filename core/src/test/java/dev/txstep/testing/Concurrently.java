package dev.txstep.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Runs copies of a call at once, for the tests that fire identical requests together. */
public final class Concurrently {

    private Concurrently() {
    }

    /**
     * Runs {@code n} copies of a call at once: each on its own thread, all released together once
     * every thread is ready.
     *
     * @return the calls' results, in submission order
     * @throws Exception the first call's failure, or a timeout (threads not ready in 30 s, a call
     *                   not done in 90 s)
     */
    public static <T> List<T> run(int n, Callable<T> call) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch ready = new CountDownLatch(n);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(threads.submit(() -> {
                    ready.countDown();
                    go.await();
                    return call.call();
                }));
            }
            if (!ready.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the " + n + " threads were not ready within 30 s");
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                results.add(future.get(90, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            threads.shutdownNow();
        }
    }
}
