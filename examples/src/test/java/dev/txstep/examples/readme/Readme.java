package dev.txstep.examples.readme;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The README's code blocks, and the regions of this package's sources that the README quotes. A
 * region stands between a line {@code // README begin} and a line {@code // README end}; its
 * text, with the indentation it shares removed, is a README block word for word.
 */
final class Readme {

    private static final Path ROOT = locateRoot();

    private Readme() {
    }

    /** The blocks of the README fenced as {@code ```language}, in order. */
    static List<String> blocks(String language) {
        return fenced(read(ROOT.resolve("README.md")), "```" + language);
    }

    /** Every README region of this package's source files. */
    static List<String> quotedRegions() {
        Path dir = ROOT.resolve("examples/src/test/java/dev/txstep/examples/readme");
        try (Stream<Path> files = Files.list(dir)) {
            List<String> regions = new ArrayList<>();
            files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> regions.addAll(regions(read(f))));
            return regions;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> fenced(String text, String opening) {
        List<String> blocks = new ArrayList<>();
        List<String> current = null;
        for (String line : text.split("\n", -1)) {
            if (current == null && line.strip().equals(opening)) {
                current = new ArrayList<>();
            } else if (current != null && line.strip().equals("```")) {
                blocks.add(String.join("\n", current));
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return blocks;
    }

    private static List<String> regions(String source) {
        List<String> regions = new ArrayList<>();
        List<String> current = null;
        for (String line : source.split("\n", -1)) {
            if (line.strip().equals("// README begin")) {
                current = new ArrayList<>();
            } else if (line.strip().equals("// README end")) {
                regions.add(dedent(current));
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        return regions;
    }

    private static String dedent(List<String> lines) {
        int indent = lines.stream().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        return String.join("\n", lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The repository's root: where README.md is, from this module's directory or the root itself. */
    private static Path locateRoot() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("README.md")) && Files.isDirectory(p.resolve("examples"))) {
                return p;
            }
        }
        throw new IllegalStateException("README.md not found above " + here);
    }
}
