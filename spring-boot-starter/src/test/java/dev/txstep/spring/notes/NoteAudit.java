package dev.txstep.spring.notes;

import dev.txstep.spring.TxStep;
import reactor.core.publisher.Mono;

/** A second bean whose {@code @TxStep} method, called inside another step, joins it. */
public class NoteAudit {

    private final NoteRepository notes;

    public NoteAudit(NoteRepository notes) {
        this.notes = notes;
    }

    @TxStep(name = "audit")
    public Mono<Void> record(String text) {
        return notes.save(Note.of(text)).then();
    }
}
