package dev.curvlab.curvature.hessian;

/** The preflight found that a dense Hessian cannot fit the memory budget (or the disk); nothing was computed. */
public class HessianTooLargeException extends IllegalStateException {
    public HessianTooLargeException(String message) {
        super(message);
    }
}
