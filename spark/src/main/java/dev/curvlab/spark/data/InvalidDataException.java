package dev.curvlab.spark.data;

/** Input data that cannot be used, with a message that names the source and the place: one line for the user. */
public final class InvalidDataException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidDataException(String message) {
        super(message);
    }

    public InvalidDataException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The first InvalidDataException in the cause chain of {@code t} (e.g. thrown in a task and wrapped by Spark), or null. */
    public static InvalidDataException findIn(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof InvalidDataException e) {
                return e;
            }
        }
        return null;
    }
}
