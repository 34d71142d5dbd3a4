package dev.curvlab.curvature.cli;

/**
 * An iterative computation stopped before meeting its tolerance (e.g. {@code eigs} after
 * {@code --max-iter} products): its results were printed but not written, and the command exits
 * with {@link ErrorReporter#NOT_CONVERGED} (3) unless the user accepted it
 * ({@code --allow-unconverged}).
 */
final class NotConvergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotConvergedException(String message) {
        super(message);
    }
}
