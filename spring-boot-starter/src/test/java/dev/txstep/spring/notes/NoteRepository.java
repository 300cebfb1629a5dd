package dev.txstep.spring.notes;

import org.springframework.data.repository.reactive.ReactiveCrudRepository;

/** The tests' Spring Data R2DBC repository. */
public interface NoteRepository extends ReactiveCrudRepository<Note, Long> {
}
