package dev.txstep.serialization;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.jsontype.PolymorphicTypeValidator;
import com.fasterxml.jackson.databind.jsontype.TypeIdResolver;
import com.fasterxml.jackson.databind.jsontype.impl.ClassNameIdResolver;
import com.fasterxml.jackson.databind.type.TypeFactory;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;

/** Default typing for non-final declared types, with portable and checked type ids. */
final class AllowListTyping extends ObjectMapper.DefaultTypeResolverBuilder {

    private static final long serialVersionUID = 1L;

    private final transient TypeAllowList allowList;

    AllowListTyping(TypeAllowList allowList) {
        super(ObjectMapper.DefaultTyping.NON_FINAL, new TypeAllowList.Validator(allowList));
        this.allowList = allowList;
        init(JsonTypeInfo.Value.construct(JsonTypeInfo.Id.CLASS, JsonTypeInfo.As.PROPERTY, "@type",
                null, false, null), null);
    }

    @Override
    protected TypeIdResolver idResolver(MapperConfig<?> config, JavaType baseType,
            PolymorphicTypeValidator validator, Collection<NamedType> subtypes, boolean forSer,
            boolean forDeser) {
        return new CheckedClassNameIdResolver(baseType, config.getTypeFactory(), validator, allowList);
    }

    /**
     * Writes class names as type ids, replacing the JDK's private collection classes by public
     * equal ones and refusing, at write time, a type that could not be read back.
     */
    private static final class CheckedClassNameIdResolver extends ClassNameIdResolver {

        private static final long serialVersionUID = 1L;

        private final transient TypeAllowList allowList;

        CheckedClassNameIdResolver(JavaType baseType, TypeFactory typeFactory, PolymorphicTypeValidator validator,
                TypeAllowList allowList) {
            super(baseType, typeFactory, validator);
            this.allowList = allowList;
        }

        @Override
        public String idFromValue(Object value) {
            return checked(value, super.idFromValue(value));
        }

        @Override
        public String idFromValueAndType(Object value, Class<?> type) {
            return checked(value, super.idFromValueAndType(value, type));
        }

        private String checked(Object value, String id) {
            if (value instanceof Map<?, ?> map && !declaresKeyType()) {
                for (Object k : map.keySet()) {
                    if (!(k instanceof String)) {
                        throw new IllegalArgumentException("a map whose declared type does not name its key type"
                                + " must have String keys to come back equal, found a key of type "
                                + (k == null ? "null" : k.getClass().getName())
                                + ": use a record with a Map<K, V> component, or String keys");
                    }
                }
            }
            if (value != null && isPrivateJdkCollection(value.getClass())) {
                if (value instanceof SortedSet) {
                    return "java.util.TreeSet";
                }
                if (value instanceof Set) {
                    return "java.util.LinkedHashSet";
                }
                if (value instanceof List) {
                    return "java.util.ArrayList";
                }
                if (value instanceof SortedMap) {
                    return "java.util.TreeMap";
                }
                if (value instanceof Map) {
                    return "java.util.LinkedHashMap";
                }
            }
            if (value != null && !allowList.allows(value.getClass()) && !allowList.allowsName(id)) {
                throw new IllegalArgumentException("type " + value.getClass().getName()
                        + " may not be recorded: allow it with JacksonSerializer.builder()"
                        + ".allowTypes(...) or .allowPackages(...), or return a record");
            }
            return id;
        }

        /** Whether the declared type this id is written for names the key type of a map. */
        private boolean declaresKeyType() {
            JavaType keyType = _baseType == null ? null : _baseType.getKeyType();
            return keyType != null && keyType.getRawClass() != Object.class;
        }

        private static boolean isPrivateJdkCollection(Class<?> type) {
            String name = type.getName();
            return (name.startsWith("java.util.") && name.indexOf('$') > 0)
                    && (Collection.class.isAssignableFrom(type) || Map.class.isAssignableFrom(type));
        }
    }
}
