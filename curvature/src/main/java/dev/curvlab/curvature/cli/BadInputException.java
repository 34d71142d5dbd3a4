package dev.curvlab.curvature.cli;

/**
 * An input file or its content does not fit what the command needs; the message names the file (or
 * option) and the problem. Reported as {@code curvlab: error: <message>} with exit code 1.
 */
final class BadInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadInputException(String message) {
        super(message);
    }

    BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
