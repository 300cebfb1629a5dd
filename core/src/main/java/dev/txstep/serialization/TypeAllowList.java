package dev.txstep.serialization;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.jsontype.PolymorphicTypeValidator;
import java.util.List;
import java.util.Set;

/** Decides which classes a recorded row may name. */
final class TypeAllowList {

    private static final Set<String> JDK_TYPES = Set.of(
            "java.lang.String", "java.lang.Boolean", "java.lang.Character", "java.lang.Byte",
            "java.lang.Short", "java.lang.Integer", "java.lang.Long", "java.lang.Float",
            "java.lang.Double", "java.math.BigInteger", "java.math.BigDecimal",
            "java.util.UUID", "java.util.Date", "java.util.Currency", "java.util.Locale",
            "java.util.ArrayList", "java.util.LinkedList", "java.util.HashMap",
            "java.util.LinkedHashMap", "java.util.TreeMap", "java.util.HashSet",
            "java.util.LinkedHashSet", "java.util.TreeSet");
    // Not listed on purpose: Optional (written as its content, so it would come back unwrapped)
    // and ArrayDeque (no value equality). As record components with declared types they work.

    private final List<String> packages;
    private final Set<Class<?>> types;
    private final boolean records;

    TypeAllowList(List<String> packages, Set<Class<?>> types, boolean records) {
        this.packages = packages;
        this.types = types;
        this.records = records;
    }

    boolean allowsName(String className) {
        String name = className;
        while (name.startsWith("[")) {
            name = name.substring(1);
        }
        if (name.startsWith("L") && name.endsWith(";")) {
            name = name.substring(1, name.length() - 1);
        }
        if (JDK_TYPES.contains(name) || name.startsWith("java.time.")) {
            return true;
        }
        for (String prefix : packages) {
            if (name.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    boolean allowsTypeNamed(String className) {
        for (Class<?> type : types) {
            if (type.getName().equals(className)) {
                return true;
            }
        }
        return false;
    }

    boolean allows(Class<?> type) {
        Class<?> t = type;
        while (t.isArray()) {
            t = t.getComponentType();
        }
        return t.isPrimitive() || t.isEnum() || (t.getSuperclass() != null && t.getSuperclass().isEnum())
                || (records && t.isRecord()) || types.contains(t) || allowsName(t.getName());
    }

    /** Jackson's view of the allow list, consulted when a row is read. */
    static final class Validator extends PolymorphicTypeValidator.Base {

        private static final long serialVersionUID = 1L;

        private final transient TypeAllowList allowList;

        Validator(TypeAllowList allowList) {
            this.allowList = allowList;
        }

        @Override
        public Validity validateSubClassName(MapperConfig<?> config, JavaType baseType, String subClassName) {
            // Decide by name first where we can; a class allowed by name is then resolved without the
            // type check below. A class not allowed by name is loaded (not initialized) and checked.
            return allowList.allowsName(subClassName) ? Validity.ALLOWED : Validity.INDETERMINATE;
        }

        @Override
        public Validity validateSubType(MapperConfig<?> config, JavaType baseType, JavaType subType) {
            return allowList.allows(subType.getRawClass()) ? Validity.ALLOWED : Validity.DENIED;
        }
    }
}
