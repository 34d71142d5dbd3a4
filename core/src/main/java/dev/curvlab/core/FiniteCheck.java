package dev.curvlab.core;

import java.util.ArrayDeque;
import java.util.Deque;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * Opt-in detection of NaN/Inf: when enabled, every primitive's result is checked and the first
 * non-finite one raises {@link NonFiniteValueException} naming the primitive and, inside a
 * derivative, the rule being evaluated ("NaN/Inf in 'mul' while computing the VJP of 'log'").
 * Enable per thread with {@link #enable(boolean)} or globally with {@code -Dcurvlab.checkFinite=true}.
 * Costs one extra reduction per operation.
 */
public final class FiniteCheck {
    private static final boolean GLOBAL = Boolean.getBoolean("curvlab.checkFinite");
    private static final ThreadLocal<Boolean> ENABLED = ThreadLocal.withInitial(() -> GLOBAL);
    private static final ThreadLocal<Deque<String>> RULES = ThreadLocal.withInitial(ArrayDeque::new);

    private FiniteCheck() {
    }

    /** Turns the check on or off for the current thread; returns the previous setting. */
    public static boolean enable(boolean on) {
        boolean before = ENABLED.get();
        ENABLED.set(on);
        return before;
    }

    public static boolean enabled() {
        return ENABLED.get();
    }

    static void enterRule(Primitive p, String kind) {
        if (ENABLED.get()) {
            RULES.get().push("the " + kind + " of '" + p.name() + "'");
        }
    }

    static void exitRule() {
        if (ENABLED.get()) {
            Deque<String> d = RULES.get();
            if (!d.isEmpty()) {
                d.pop();
            }
        }
    }

    static void check(Primitive p, INDArray out) {
        if (!ENABLED.get() || out.isEmpty()) {
            return;
        }
        boolean nan = BooleanIndexing.or(out, Conditions.isNan());
        boolean inf = BooleanIndexing.or(out, Conditions.isInfinite());
        if (nan || inf) {
            Deque<String> d = RULES.get();
            String where = d.isEmpty() ? "" : " while computing " + d.peek();
            throw new NonFiniteValueException((nan ? "NaN" : "Inf") + " produced by '" + p.name() + "'" + where
                    + " (result shape " + Shapes.str(out.shape()) + ")");
        }
    }
}
