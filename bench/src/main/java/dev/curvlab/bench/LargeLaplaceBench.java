package dev.curvlab.bench;

import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.laplace.CurvatureType;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.loss.Losses;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A model of about 1.3M parameters (784-1000-500-10 tanh, ce; N = 1,290,510) on 2,000 seeded
 * synthetic samples: KFAC Laplace (kron, all layers) and its log marginal likelihood, with the
 * factors (785^2 + 1000^2 + 1001^2 + 500^2 + 501^2 + 10^2 doubles, about 27 MB) in place of the
 * 13 TB dense matrix that the full-Hessian preflight refuses.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx4g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@State(Scope.Benchmark)
public class LargeLaplaceBench {
    private Problems.Instance problem;

    @Setup(Level.Trial)
    public void setup() {
        problem = new Problems.Mlp("1M", new int[] {784, 1000, 500, 10}, Losses.CROSS_ENTROPY, 2_000).build();
    }

    /** KFAC Laplace of all 1.3M parameters and its evidence. */
    @Benchmark
    public double kfacLaplaceEvidence() throws IOException {
        return Laplace.fit(problem.model(), Losses.CROSS_ENTROPY, problem.data(), problem.theta(),
                new Laplace.Options(Structure.KRON, Subset.ALL, CurvatureType.GGN, new double[] {1.0}, 1.0, MemoryBudget.defaultBudget()),
                ProgressListener.NONE).logMarginalLikelihood();
    }
}
