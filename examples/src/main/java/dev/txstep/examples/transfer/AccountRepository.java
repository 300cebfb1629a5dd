package dev.txstep.examples.transfer;

import java.util.Collection;
import org.springframework.data.relational.core.sql.LockMode;
import org.springframework.data.relational.repository.Lock;
import org.springframework.data.repository.reactive.ReactiveCrudRepository;
import reactor.core.publisher.Flux;

/** The accounts, through Spring Data R2DBC. */
interface AccountRepository extends ReactiveCrudRepository<Account, String> {

    /**
     * The accounts with these ids, locked for update in id order ({@code … ORDER BY id FOR UPDATE}):
     * every transfer takes the two row locks in the same order, so opposite transfers queue
     * instead of deadlocking.
     */
    @Lock(LockMode.PESSIMISTIC_WRITE)
    Flux<Account> findByIdInOrderById(Collection<String> ids);
}
