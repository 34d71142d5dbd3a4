package dev.curvlab.curvature.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A directory of outputs written all at once: its files go to a hidden sibling directory first, which
 * takes the final name only when every file is complete, so a failed run leaves no directory that
 * looks finished. A directory may be replaced only when it is empty or holds this kind of output
 * (its marker file), never an unrelated directory.
 */
final class OutputDirectory {
    /** Fills a directory. */
    interface Writer {
        void write(Path dir) throws IOException;
    }

    private OutputDirectory() {
    }

    /** Fails (before any work) when {@code dir} cannot become this command's output directory. */
    static void check(Path dir, String option, String marker) {
        if (dir == null) {
            return;
        }
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new BadInputException(dir + ": cannot write " + option + ": directory " + parent + " does not exist");
        }
        if (!Files.isWritable(parent)) {
            throw new BadInputException(dir + ": cannot write " + option + ": directory " + parent + " is not writable");
        }
        if (Files.exists(abs)) {
            if (!Files.isDirectory(abs)) {
                throw new BadInputException(dir + ": cannot write " + option + ": it exists and is not a directory");
            }
            if (!isEmpty(abs) && !Files.exists(abs.resolve(marker))) {
                throw new BadInputException(dir + ": cannot write " + option + ": the directory is not empty and holds no " + marker
                        + " (only an earlier output of this command is replaced)");
            }
        }
    }

    /** Writes the directory through a temporary sibling, then moves it into place (replacing an earlier output). */
    static void write(Path dir, Writer writer) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        Path tmp = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".partial-");
        try {
            writer.write(tmp);
            if (Files.exists(abs)) {
                Path old = abs.resolveSibling("." + abs.getFileName() + ".old-" + System.nanoTime());
                Files.move(abs, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
                delete(old);
            } else {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            }
        } finally {
            if (Files.exists(tmp)) {
                delete(tmp);
            }
        }
    }

    private static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
