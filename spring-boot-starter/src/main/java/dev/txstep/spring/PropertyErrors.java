package dev.txstep.spring;

import dev.txstep.InvalidConfigurationException;
import dev.txstep.spi.JdbcCoordinates;
import java.util.function.Consumer;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * Passes a property's value to the txstep builder method that validates it, and reports a refusal
 * as the property's: txstep's builders throw {@link InvalidConfigurationException} in txstep's
 * terms ("schema must be ..."), whereas a Spring Boot user set {@code txstep.schema}. The
 * {@link InvalidConfigurationPropertyValueException} this throws is what Spring Boot's failure
 * analysis reports at start-up, with the value and where it was set.
 */
final class PropertyErrors {

    private PropertyErrors() {
    }

    /**
     * Applies one setting.
     *
     * @param property the property's name, e.g. {@code txstep.schema}
     * @param value    its bound value
     * @param setter   the builder method
     * @throws InvalidConfigurationPropertyValueException naming the property, with txstep's reason,
     *                                                    if the builder refuses the value
     */
    static <T> void set(String property, T value, Consumer<T> setter) {
        try {
            setter.accept(value);
        } catch (InvalidConfigurationException e) {
            throw refused(property, value, e.getMessage());
        }
    }

    /**
     * A refusal of a property's value.
     *
     * @param property the property's name
     * @param value    its value (a URL's password is masked)
     * @param reason   why it cannot be used, and what to do
     * @return the exception to throw
     */
    static InvalidConfigurationPropertyValueException refused(String property, Object value, String reason) {
        Object shown = value instanceof String text ? JdbcCoordinates.redact(text) : value;
        return new InvalidConfigurationPropertyValueException(property, shown, reason);
    }
}
