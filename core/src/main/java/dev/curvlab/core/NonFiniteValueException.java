package dev.curvlab.core;

/**
 * A primitive produced NaN or Inf while {@link FiniteCheck} was enabled. The message names the
 * primitive and, when it ran inside a derivative rule, which rule (e.g. "in the VJP of log").
 */
public class NonFiniteValueException extends ArithmeticException {
    public NonFiniteValueException(String message) {
        super(message);
    }
}
