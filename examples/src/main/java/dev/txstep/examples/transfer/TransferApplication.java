package dev.txstep.examples.transfer;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A money transfer service on Spring Boot WebFlux and txstep: {@code POST /transfers} with an
 * {@code Idempotency-Key} moves money exactly once however often the request is retried, and
 * answers every retry with the same transfer.
 *
 * <p>Run it from the repository's root (builds everything first, installs nothing; stop it with
 * Ctrl-C) on embedded H2:
 * <pre>{@code mvn -B -q -DskipTests -Ptransfer package}</pre>
 * or on PostgreSQL:
 * <pre>{@code mvn -B -q -DskipTests -Ptransfer package \
 *     -Dexec.args="--transfer.url=r2dbc:postgresql://postgres@127.0.0.1:5432/postgres"}</pre>
 * then
 * <pre>{@code curl -s localhost:8080/transfers -H 'Idempotency-Key: 7d1f…' -H 'Content-Type: application/json' \
 *     -d '{"from":"alice","to":"bob","amount":2500}'
 * curl -s localhost:8080/accounts/alice}</pre>
 * Settings are in {@link TransferProperties} ({@code --transfer.*}), the port is
 * {@code --server.port}.
 */
@SpringBootApplication
public class TransferApplication {

    /**
     * Starts the service.
     *
     * @param args Spring Boot arguments, e.g. {@code --transfer.url=...} or {@code --server.port=9090}
     */
    public static void main(String[] args) {
        SpringApplication.run(TransferApplication.class, args);
    }
}
