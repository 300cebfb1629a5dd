package dev.txstep.spring.notes;

import org.springframework.context.annotation.Configuration;
import org.springframework.data.r2dbc.repository.config.EnableR2dbcRepositories;

/** Enables the notes repository (an ApplicationContextRunner has no auto-configuration package to scan). */
@Configuration(proxyBeanMethods = false)
@EnableR2dbcRepositories(basePackageClasses = NoteRepository.class)
public class NotesConfiguration {
}
