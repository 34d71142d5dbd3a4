package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.hessian.MemoryBudget;
import java.nio.file.Path;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** How a dense [N, N] matrix is built ({@link FullHessian}): method, block size, memory budget, checkpoint. */
final class DenseOptions {
    @Option(names = "--method", order = 20, paramLabel = "M", converter = MethodConverter.class, defaultValue = "auto",
            description = "auto, structured (dense networks, fastest), blocked (k Hessian-vector products per pass)"
                    + " or rowloop (one per column) (default: ${DEFAULT-VALUE})")
    HessianMethod method;

    @Option(names = "--block", order = 21, paramLabel = "K", description = "columns per pass for blocked; 0 = from the memory budget (default: ${DEFAULT-VALUE})")
    int block;

    @Option(names = "--max-memory", order = 22, paramLabel = "SIZE", converter = BudgetConverter.class,
            description = "memory budget, e.g. 512M, 12G (default: 75%% of physical memory)")
    MemoryBudget maxMemory;

    @Option(names = "--checkpoint", order = 23, paramLabel = "DIR", description = "keep resumable progress in DIR (rerun the same command to resume)")
    Path checkpoint;

    @Option(names = "--symmetrize", order = 24, description = "replace the computed matrix by (H + H^T) / 2")
    boolean symmetrize;

    /** The FullHessian settings (output and progress set by the caller). */
    FullHessian.Options toOptions() {
        FullHessian.Options o = new FullHessian.Options().method(method).blockSize(block).symmetrize(symmetrize);
        if (maxMemory != null) {
            o.budget(maxMemory);
        }
        if (checkpoint != null) {
            o.checkpoint(checkpoint);
        }
        return o;
    }

    /** The budget in force. */
    MemoryBudget budget() {
        return maxMemory != null ? maxMemory : MemoryBudget.defaultBudget();
    }

    static final class MethodConverter implements ITypeConverter<HessianMethod> {
        @Override
        public HessianMethod convert(String value) {
            try {
                return HessianMethod.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    static final class BudgetConverter implements ITypeConverter<MemoryBudget> {
        @Override
        public MemoryBudget convert(String value) {
            try {
                return MemoryBudget.parse(value);
            } catch (RuntimeException e) {
                throw new TypeConversionException("cannot read memory size '" + value + "' (examples: 512M, 12G)");
            }
        }
    }
}
