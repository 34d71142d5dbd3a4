package dev.curvlab.nn.data;

import java.io.IOException;

/**
 * Thrown when a data file (CSV, npy pair, bundled resource) cannot be turned into a
 * {@link Dataset}. The message names the source and, where it applies, the line and column, e.g.
 * {@code "data.csv: line 7, column 3 (index 2): non-numeric value 'abc'"}.
 */
public class DatasetFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** @param message complete message, including the source (file path or resource name) */
    public DatasetFormatException(String message) {
        super(message);
    }

    /**
     * @param message complete message, including the source
     * @param cause underlying error
     */
    public DatasetFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
