package dev.curvlab.nn.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Thrown when a file cannot be read or written as a NumPy {@code .npy} file: bad magic bytes,
 * unsupported format version or dtype, malformed header dictionary, invalid shape, or data shorter
 * than the header promises.
 *
 * <p>The message always has the form {@code "<file path>: <what went wrong>"}, so one line says
 * both what failed and where.
 */
public class NpyFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /**
     * @param file the offending file (may be {@code null} if unknown)
     * @param problem description of the problem, without the path
     */
    public NpyFormatException(Path file, String problem) {
        super((file == null ? "<unknown npy file>" : file.toString()) + ": " + problem);
        this.file = file;
    }

    /** @return the offending file, or {@code null} if unknown */
    public Path file() {
        return file;
    }
}
