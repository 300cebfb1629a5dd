package dev.txstep.examples.readme;

import dev.txstep.IsolationLevel;
import dev.txstep.spring.TxStep;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.annotation.Id;
import org.springframework.data.r2dbc.repository.config.EnableR2dbcRepositories;
import org.springframework.data.relational.core.mapping.Table;
import org.springframework.data.repository.reactive.ReactiveCrudRepository;
import reactor.core.publisher.Mono;

/** The README's "Spring Boot" snippet: an entity, its repository and a {@code @TxStep} service. */
@Configuration(proxyBeanMethods = false)
@EnableR2dbcRepositories(considerNestedRepositories = true, basePackageClasses = SpringSnippet.class)
class SpringSnippet {

    @Bean
    Payments payments(AccountRepository accounts) {
        return new Payments(accounts);
    }

    // README begin
    @Table("accounts")
    record Account(@Id String id, long balance) {}

    interface AccountRepository extends ReactiveCrudRepository<Account, String> {}

    static class Payments {   // a Spring bean
        private final AccountRepository accounts;

        Payments(AccountRepository accounts) {
            this.accounts = accounts;
        }

        // One step: the repository's reads and writes run in the step's transaction, and the
        // returned Account is recorded with them. Called with the same Idempotency-Key again,
        // it returns the recorded Account and debits nothing.
        @TxStep(name = "debit", isolation = IsolationLevel.SERIALIZABLE)
        public Mono<Account> debit(String id, long amount) {
            return accounts.findById(id)
                    .flatMap(account -> accounts.save(new Account(id, account.balance() - amount)));
        }
    }
    // README end
}
