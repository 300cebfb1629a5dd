package dev.txstep.internal.engine;

import dev.txstep.observe.StepOutcome;
import java.util.Optional;

/**
 * What a step produced and how: its value (empty for a step without one) and whether it ran,
 * replayed or took another executor's outcome.
 *
 * @param value   the step's output
 * @param outcome how it was obtained
 */
record StepResult(Optional<Object> value, StepOutcome outcome) {
}
