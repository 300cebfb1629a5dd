package dev.txstep.spring.notes;

import dev.txstep.IsolationLevel;
import dev.txstep.spring.TxStep;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/** The tests' service of {@code @TxStep} methods, reactive and blocking, over the notes repository. */
public class NoteService {

    private final NoteRepository notes;
    private final DatabaseClient client;
    private final NoteAudit audit;

    public NoteService(NoteRepository notes, DatabaseClient client, NoteAudit audit) {
        this.notes = notes;
        this.client = client;
        this.audit = audit;
    }

    /** Saves a note: a step named by default ({@code NoteService.write}). */
    @TxStep
    public Mono<Long> write(String text) {
        return notes.save(Note.of(text)).map(Note::id);
    }

    /** Saves a note, then fails: the step's outcome is the error, the note is rolled back. */
    @TxStep(name = "write-then-fail")
    public Mono<Long> writeThenFail(String text) {
        return notes.save(Note.of(text)).then(Mono.error(new IllegalStateException("after the save")));
    }

    /** Saves a note and has {@link NoteAudit#record} (another {@code @TxStep} bean method) write another. */
    @TxStep(name = "write-with-audit")
    public Mono<Long> writeWithAudit(String text, boolean failAfterwards) {
        return notes.save(Note.of(text))
                .flatMap(note -> audit.record("audit of " + text).thenReturn(note.id()))
                .flatMap(id -> failAfterwards ? Mono.error(new IllegalStateException("after the audit")) : Mono.just(id));
    }

    /** Calls {@link #write} on itself: self-invocation, which the proxy does not see. */
    @TxStep(name = "self-invoking")
    public Mono<Long> writeTwiceThroughThis(String text) {
        return write(text).then(this.write(text + " again"));
    }

    /** The transaction's isolation level as PostgreSQL names it. */
    @TxStep(name = "isolation", isolation = IsolationLevel.READ_COMMITTED)
    public Mono<String> isolation() {
        return client.sql("SHOW transaction_isolation").map(row -> row.get(0, String.class)).one();
    }

    /** A read-only step that tries to write. */
    @TxStep(name = "read-only-write", readOnly = true)
    public Mono<Long> writeReadOnly(String text) {
        return notes.save(Note.of(text)).map(Note::id);
    }

    /** The blocking form: the body runs on a worker thread, the caller waits. */
    @TxStep(name = "write-blocking")
    public long writeBlocking(String text, boolean failAfterwards) {
        long id = notes.save(Note.of(text)).contextCapture().block().id();
        if (failAfterwards) {
            throw new IllegalStateException("after the blocking save");
        }
        return id;
    }
}
