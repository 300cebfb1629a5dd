package dev.txstep.spring.notes;

import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/** A row the tests' steps write through Spring Data: one per effect, so effects are counted. */
@Table("notes")
public record Note(@Id Long id, String text) {

    /** A new note (no id yet: the database assigns it on save). */
    public static Note of(String text) {
        return new Note(null, text);
    }
}
