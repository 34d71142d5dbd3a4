package dev.curvlab.core;

/** Operands of an operation have shapes it cannot accept; the message names the op and the shapes. */
public class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) {
        super(message);
    }
}
