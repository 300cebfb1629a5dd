package dev.txstep.internal.engine;

import java.util.Set;

/**
 * The default name of a step: the method that declared it, as {@code com.acme.Transfers.debit}.
 * A lambda's synthetic method ({@code lambda$debit$3}) counts as the method it is written in, so
 * the name survives lambdas being added or removed elsewhere in the class.
 */
public final class StepNames {

    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final Set<String> API_CLASSES = Set.of("dev.txstep.AsyncDatasource", "dev.txstep.BlockingDatasource");

    private StepNames() {
    }

    /**
     * The name of the first caller outside txstep's own API classes: walks the stack.
     *
     * @return e.g. {@code com.acme.Transfers.debit}, or {@code txstep} if every frame is txstep's
     */
    public static String ofCaller() {
        return WALKER.walk(frames -> frames
                .filter(f -> !API_CLASSES.contains(f.getClassName()) && !f.getClassName().startsWith("dev.txstep.internal."))
                .findFirst()
                .map(f -> f.getClassName() + "." + methodName(f.getMethodName()))
                .orElse("txstep"));
    }

    static String methodName(String method) {
        if (method.startsWith("lambda$")) {
            int end = method.indexOf('$', "lambda$".length());
            if (end > "lambda$".length()) {
                return method.substring("lambda$".length(), end);
            }
        }
        return method;
    }
}
