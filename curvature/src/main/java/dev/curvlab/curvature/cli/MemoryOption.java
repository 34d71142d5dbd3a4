package dev.curvlab.curvature.cli;

import dev.curvlab.curvature.hessian.MemoryBudget;
import picocli.CommandLine.Option;

/** {@code --max-memory SIZE} for commands whose preflight ({@link ResourcePreflight}) checks their result and working memory. */
final class MemoryOption {
    @Option(names = "--max-memory", order = 22, paramLabel = "SIZE", converter = DenseOptions.BudgetConverter.class,
            description = "memory budget for the result and working memory, e.g. 512M, 12G (default: 75%% of physical memory)")
    MemoryBudget maxMemory;

    /** The budget in force. */
    MemoryBudget budget() {
        return maxMemory != null ? maxMemory : MemoryBudget.defaultBudget();
    }
}
