package dev.txstep.serialization;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.txstep.InvalidConfigurationException;
import dev.txstep.OutputSerializationException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The default {@link Serializer}: JSON written by Jackson with the concrete type of every value
 * whose declared type does not name it ({@code "@type"}), so a recorded record, POJO, list or map
 * comes back as an equal value of the same type. Records {@code "jackson"} in the
 * {@code serialization} column.
 *
 * <p><b>Which types a row may name.</b> Recorded text is read back from the database, so it must
 * not be able to make Jackson instantiate an arbitrary class (the "gadget" attacks on polymorphic
 * deserialization). A row may name only: the JDK's value types ({@code String}, boxed primitives,
 * {@code BigInteger}, {@code BigDecimal}, {@code java.time}, {@code UUID}, the standard
 * lists, sets and maps), enums, records (unless {@link Builder#allowRecords(boolean) turned off}), arrays
 * of these, and the classes and packages the builder names. A value of any other type is refused
 * when it is serialized — the step fails and nothing is recorded — and a row naming one is refused
 * when it is read. Immutable JDK collections ({@code List.of}, {@code Map.of},
 * {@code Collections.unmodifiable*}) are recorded as their plain mutable counterparts, which are
 * equal to them. A map in a position whose declared type does not name its key type (a top-level
 * {@code Map}, a {@code Map} in an {@code Object} field) must have {@code String} keys; JSON object
 * keys are text, and nothing would say which type to restore. {@code Optional} is supported as a
 * record component, not as a step's whole output.
 *
 * <p>Thread-safe and immutable.
 */
public final class JacksonSerializer implements Serializer {

    /** The value of the {@code serialization} column for rows this serializer writes. */
    public static final String NAME = "jackson";

    private static final JacksonSerializer DEFAULT = builder().build();

    private final TypeAllowList allowList;
    private final ObjectWriter writer;
    private final ObjectReader reader;

    private JacksonSerializer(Builder builder) {
        this.allowList = new TypeAllowList(List.copyOf(builder.packages), Set.copyOf(builder.types),
                builder.allowRecords);
        ObjectMapper mapper = JsonMapper.builder()
                .addModule(new JavaTimeModule())
                .addModule(new Jdk8Module())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                // Keep an OffsetDateTime's offset and a ZonedDateTime's zone: replay must return an equal value.
                .enable(SerializationFeature.WRITE_DATES_WITH_ZONE_ID)
                .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .setDefaultTyping(new AllowListTyping(allowList))
                .build();
        this.writer = mapper.writerFor(Object.class);
        this.reader = mapper.readerFor(Object.class);
    }

    /**
     * The default instance: JDK value types, enums and records allowed.
     *
     * @return the shared default serializer
     */
    public static JacksonSerializer create() {
        return DEFAULT;
    }

    /**
     * A builder, to allow more types.
     *
     * @return a new builder with the defaults
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * Allows the JDK's own classes ({@code java.*}) and the packages and types this serializer's
     * builder allowed: a recorded error of another type replays without being rebuilt.
     */
    @Override
    public boolean allowsRecordedType(String className) {
        return className.startsWith("java.") || allowList.allowsName(className) || allowList.allowsTypeNamed(className);
    }

    @Override
    public String serialize(Object value) {
        if (value instanceof Optional<?> || value instanceof OptionalInt || value instanceof OptionalLong
                || value instanceof OptionalDouble) {
            // Jackson writes an Optional as its content, so it would be replayed unwrapped.
            throw new OutputSerializationException("a " + value.getClass().getName() + " cannot be a step's whole"
                    + " output (it would be replayed unwrapped): return its value, or a record with an Optional"
                    + " component");
        }
        try {
            return writer.writeValueAsString(value);
        } catch (Exception e) {
            throw new OutputSerializationException("cannot serialize a value of type "
                    + value.getClass().getName() + " as JSON: " + rootMessage(e), e);
        }
    }

    @Override
    public Object deserialize(String text) {
        try {
            return reader.readValue(text);
        } catch (Exception e) {
            throw new OutputSerializationException("cannot deserialize recorded JSON: " + rootMessage(e), e);
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t instanceof com.fasterxml.jackson.core.JsonProcessingException j
                ? j.getOriginalMessage() : t.getMessage();
        return message == null ? t.getClass().getName() : message;
    }

    /**
     * Builds a {@link JacksonSerializer}. Not thread-safe.
     */
    public static final class Builder {

        private final List<String> packages = new ArrayList<>();
        private final List<Class<?>> types = new ArrayList<>();
        private boolean allowRecords = true;

        private Builder() {
        }

        /**
         * Allows every class in these packages and their sub-packages, e.g. {@code "com.acme.orders"}.
         *
         * @param packageNames package names, not blank
         * @return this builder
         * @throws InvalidConfigurationException if a name is null or blank
         */
        public Builder allowPackages(String... packageNames) {
            for (String name : packageNames) {
                if (name == null || name.isBlank()) {
                    throw new InvalidConfigurationException("allowed package name must not be blank");
                }
                String trimmed = name.trim();
                packages.add(trimmed.endsWith(".") ? trimmed : trimmed + ".");
            }
            return this;
        }

        /**
         * Allows these exact classes.
         *
         * @param classes the classes, not null
         * @return this builder
         * @throws InvalidConfigurationException if a class is null
         */
        public Builder allowTypes(Class<?>... classes) {
            for (Class<?> type : classes) {
                if (type == null) {
                    throw new InvalidConfigurationException("allowed type must not be null");
                }
                types.add(type);
            }
            return this;
        }

        /**
         * Whether any record class may be named by a row. Defaults to true: a record is built
         * through its canonical constructor from its components, which is not the bean-setter path
         * gadget chains use. Turn it off to allow only the classes and packages named here.
         *
         * @param allow whether records are allowed
         * @return this builder
         */
        public Builder allowRecords(boolean allow) {
            this.allowRecords = allow;
            return this;
        }

        /**
         * @return a new serializer
         */
        public JacksonSerializer build() {
            return new JacksonSerializer(this);
        }
    }
}
