package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.nn.products.LayerProducts;
import dev.curvlab.nn.products.ProductEngine;

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

    /** Sum of the features per sample of the input and after every layer (C H W for images). */
    static long widths(Problem p) {
        long w = p.model().inputSize();
        for (long size : p.model().activationSizes()) {
            w += size;
        }
        return w;
    }

    /** Working bytes of one column (one direction) of a Hessian-vector product pass. */
    static double perColumn(Problem p) {
        return 8.0 * 20 * p.parameterCount() + 8.0 * 30 * rows(p) * widths(p);
    }

    /**
     * Working bytes of a block of {@code k} directions through the operators' products on
     * {@code engine}: the generic engine pushes all k through the batch at once ({@link #perColumn}
     * each); the layer engine, where it applies, holds what {@link LayerProducts#workingBytes} bounds
     * (one base pass and at most one chunk of direction buffers), besides the k columns of input,
     * output and accumulator.
     */
    static double directions(Problem p, ProductEngine engine, long k) {
        long n = p.parameterCount();
        if (engine == ProductEngine.GENERIC || !LayerProducts.supports(p.model(), p.loss())) {
            return k * perColumn(p);
        }
        return LayerProducts.workingBytes(p.model(), rows(p), k) + 8.0 * 3 * n * k;
    }

    /** Working bytes of one gradient (forward and backward pass) of one batch (on the layer engine where it applies, its bound if larger). */
    static double gradient(Problem p) {
        double generic = 8.0 * 4 * p.parameterCount() + 8.0 * 12 * rows(p) * widths(p);
        return LayerProducts.supports(p.model(), p.loss()) ? Math.max(generic, LayerProducts.workingBytes(p.model(), rows(p), 1)) : generic;
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
