package dev.txstep.reactor.dbos;

/**
 * The DBOS workflows the tests run, as DBOS registers them: an interface, implemented by
 * {@link ShopWorkflowsImpl} and called through the proxy {@code DBOS.registerProxy} returns.
 */
interface ShopWorkflows {

    /** An order: how much of which product, at which price. */
    record Order(String sku, int quantity, long unitPriceCents) {
    }

    /** The output of step {@code reserve}; {@code effects} is how many reservations it saw: 1. */
    record Reservation(String sku, int quantity, int effects) {
    }

    /** The output of step {@code charge}; {@code effects} is how many charges it saw: 1. */
    record Charge(long cents, int effects) {
    }

    /**
     * The result of {@link #placeOrder}: every step's output.
     *
     * @param reservation step 0, a txstep step
     * @param audit       step 1, a plain DBOS step
     * @param charge      step 2, a txstep step
     * @param shipments   step 3, a txstep step: how many shipments it saw (1)
     */
    record Receipt(Reservation reservation, String audit, Charge charge, int shipments) {
    }

    /**
     * Three txstep steps and a plain DBOS step: reserve (DBOS step 0), audit (1), charge (2),
     * ship (3). Each txstep step inserts one effect row.
     */
    Receipt placeOrder(Order order);

    /**
     * A txstep step that fails ({@code IllegalStateException("out of stock: <sku>")}), caught by
     * the workflow, which returns what it caught as {@code "<class name>: <message>"}.
     */
    String outOfStock(String sku);

    /**
     * Two attempts to nest a step — inside a txstep step's function, and inside a plain DBOS step —
     * each caught by the workflow; returns what each raised, {@code "<class name>: <message>"},
     * joined by a newline.
     */
    String nested(String sku);

    /**
     * Options through {@link DbosTxSteps}: step 0 ({@code "level"}, READ COMMITTED) returns the
     * isolation level its transaction runs at; step 1 ({@code "read-only"}, read-only) tries to write
     * an effect, and the workflow returns what that raised (or {@code "wrote"}), after a newline.
     */
    String options(String sku);
}
