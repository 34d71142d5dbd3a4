package dev.curvlab.core;

/**
 * One active transform (a {@code jvp} or a {@code vjp}) at a nesting level. Operations whose
 * highest-level operand belongs to this trace are handed to {@link #process}; the trace computes
 * the primal result one level down and attaches its own derivative information.
 */
abstract class Trace {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    final int level;
    private boolean active = true;

    Trace() {
        this.level = ++DEPTH.get()[0];
    }

    /** Ends this trace: its level can be reused; its tracers may no longer enter operations. */
    final void close() {
        if (active) {
            active = false;
            DEPTH.get()[0]--;
        }
    }

    final void checkActive(Primitive p) {
        if (!active) {
            throw new IllegalStateException("operation '" + p.name() + "' received a tracer of a transform that has"
                    + " already finished (a value being differentiated escaped, e.g. stored in a field or"
                    + " captured by a lambda called later); use tensor.stopGradient() to keep only its value");
        }
    }

    abstract Tensor process(Primitive p, Tensor[] args);

    /** The operand's value at the level below this trace (unwrapped if it is one of ours). */
    final Tensor lower(Tensor t) {
        return t.trace == this ? t.primal : t;
    }
}
