package dev.curvlab.core;

import java.util.List;
import java.util.Set;

/**
 * Every primitive by name, grouped by kind. A primitive whose name is missing here cannot be
 * constructed, and the table-driven rule test fails for any name here without a test case, so a
 * new primitive cannot slip in without its rules being checked.
 */
public final class PrimitiveTable {
    private PrimitiveTable() {
    }

    /** Unary elementwise: rules from the derivative ({@link Elementwise}, {@link Affine}). */
    public static final List<String> ELEMENTWISE = List.of("affine", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh",
            "sigmoid", "softplus", "relu", "leaky_relu", "elu", "erf", "abs", "pow", "rdiv");

    /** Broadcasting binary ops and select ({@link Binary}, {@link Select}). */
    public static final List<String> BINARY = List.of("add", "sub", "mul", "div", "where");

    /** Reductions ({@link AxisReduction}). */
    public static final List<String> REDUCTION = List.of("sum", "logsumexp");

    /** Structural, linear ({@link Structural}). */
    public static final List<String> STRUCTURAL = List.of("reshape", "permute", "slice", "pad", "concat", "broadcast_to");

    /** Linear algebra ({@link MatMul}). */
    public static final List<String> LINALG = List.of("matmul");

    /** Sliding windows and index maps, linear, in adjoint pairs ({@link Window}). */
    public static final List<String> WINDOW = List.of("unfold", "fold", "gather", "scatter_add");

    /** All names. */
    public static final Set<String> NAMES = Set.copyOf(concat());

    private static List<String> concat() {
        java.util.ArrayList<String> all = new java.util.ArrayList<>();
        all.addAll(ELEMENTWISE);
        all.addAll(BINARY);
        all.addAll(REDUCTION);
        all.addAll(STRUCTURAL);
        all.addAll(LINALG);
        all.addAll(WINDOW);
        return all;
    }
}
