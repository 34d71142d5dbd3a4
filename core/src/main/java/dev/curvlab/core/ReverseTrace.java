package dev.curvlab.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reverse mode: operations on this trace's tracers are recorded on a tape (in execution order, so
 * the tape is topologically sorted); {@link #backward} walks it in reverse, calling each
 * primitive's VJP rule. The rules are written with differentiable operations on lower-level values,
 * so a backward pass run under an outer transform is itself differentiated (grad of grad,
 * forward-over-reverse).
 */
final class ReverseTrace extends Trace {
    private record Node(Primitive prim, Tensor[] args, Tensor out, int[] parents) {
    }

    private final List<Node> tape = new ArrayList<>();

    /** Registers {@code x} as the input (node 0) and returns its tracer. */
    Tensor seed(Tensor x) {
        tape.add(new Node(null, null, x, null));
        return Tensor.reverseTracer(this, x, tape.size() - 1);
    }

    @Override
    Tensor process(Primitive p, Tensor[] args) {
        Tensor[] primals = new Tensor[args.length];
        int[] parents = new int[args.length];
        boolean any = false;
        for (int i = 0; i < args.length; i++) {
            primals[i] = lower(args[i]);
            parents[i] = args[i].trace == this && p.differentiable(i) ? args[i].node : -1;
            any |= parents[i] >= 0;
        }
        Tensor out = p.bind(primals);
        if (!any) {
            return out;
        }
        tape.add(new Node(p, primals, out, parents));
        return Tensor.reverseTracer(this, out, tape.size() - 1);
    }

    /**
     * Cotangent of the input (node 0) given cotangent {@code g} of {@code output}; null when the
     * output does not depend on the input.
     */
    Tensor backward(Tensor output, Tensor g) {
        if (output.trace != this) {
            return null;
        }
        Tensor[] cot = new Tensor[output.node + 1];
        cot[output.node] = g;
        for (int n = output.node; n > 0; n--) {
            Tensor c = cot[n];
            if (c == null) {
                continue;
            }
            cot[n] = null;
            Node node = tape.get(n);
            for (int i = 0; i < node.parents.length; i++) {
                int parent = node.parents[i];
                if (parent < 0) {
                    continue;
                }
                Tensor contribution;
                FiniteCheck.enterRule(node.prim, "VJP");
                try {
                    contribution = node.prim.vjp(i, c, node.args, node.out);
                } finally {
                    FiniteCheck.exitRule();
                }
                if (!Arrays.equals(contribution.shapeRef(), node.args[i].shapeRef())) {
                    throw new IllegalStateException("VJP rule of '" + node.prim.name() + "' for operand " + i
                            + " returned shape " + Shapes.str(contribution.shapeRef()) + ", expected "
                            + Shapes.str(node.args[i].shapeRef()));
                }
                cot[parent] = cot[parent] == null ? contribution : Ops.add(cot[parent], contribution);
            }
        }
        return cot[0];
    }
}
