package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.nn.model.Dense;

/**
 * Memory preflights of the commands besides the dense-matrix ones (which {@code FullHessian}
 * plans): each compares its result plus its working memory with the {@code --max-memory} budget
 * before the work starts, and refuses with one line naming the option that drives the size and
 * the memory needed. The estimates are upper bounds of the live native arrays (float64), measured
 * like FullHessian's: about 20 N + 30 (rows x summed layer widths) doubles per column of a
 * forward-over-reverse pass.
 */
final class ResourcePreflight {
    private ResourcePreflight() {
    }

    /** Rows of one batch inside the operators. */
    static long rows(Problem p) {
        long n = p.data().n();
        return p.batchSize() > 0 ? Math.min(n, p.batchSize()) : n;
    }

    /** Sum of the widths of the input and every layer. */
    static long widths(Problem p) {
        long w = p.model().inputSize();
        for (Dense d : p.model().layers()) {
            w += d.out();
        }
        return w;
    }

    /** Working bytes of one column (one direction) of a Hessian-vector product pass. */
    static double perColumn(Problem p) {
        return 8.0 * 20 * p.parameterCount() + 8.0 * 30 * rows(p) * widths(p);
    }

    /** Working bytes of one gradient (forward and backward pass) of one batch. */
    static double gradient(Problem p) {
        return 8.0 * 4 * p.parameterCount() + 8.0 * 12 * rows(p) * widths(p);
    }

    /**
     * Refuses when {@code bytes} exceed the budget: "{@code what} needs about X, more than the Y
     * budget (--max-memory); {@code remedy}".
     */
    static void require(String what, double bytes, MemoryBudget budget, String remedy) {
        if (!(bytes <= budget.bytes())) {
            throw new BadInputException(what + " needs about " + MemoryBudget.format(bytes) + " of memory, more than the "
                    + MemoryBudget.format(budget.bytes()) + " budget (--max-memory); " + remedy);
        }
    }
}
