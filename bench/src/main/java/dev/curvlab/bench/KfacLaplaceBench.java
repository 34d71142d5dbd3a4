package dev.curvlab.bench;

import dev.curvlab.curvature.hessian.MemoryBudget;
import dev.curvlab.curvature.laplace.CurvatureType;
import dev.curvlab.curvature.laplace.GlmPredictive;
import dev.curvlab.curvature.laplace.Laplace;
import dev.curvlab.curvature.laplace.Structure;
import dev.curvlab.curvature.laplace.Subset;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Losses;
import java.io.IOException;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * KFAC Laplace at scale: the MLP 50-128-128-10 tanh, ce (N = 24,330) on 50,000 seeded samples.
 * {@code kfacLaplace}: the exact (type-2) KFAC factors of all layers plus the kron posterior's
 * log marginal likelihood ({@code Laplace.fit(.., KRON, ALL)} then {@code logMarginalLikelihood()});
 * {@code predictive}: the probit GLM predictive of that posterior for 10,000 test inputs. Memory is
 * the factors plus one chunk of per-sample columns (never N^2).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx4g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class KfacLaplaceBench {
    private Problems.Instance problem;
    private Laplace posterior;
    private INDArray test;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        problem = new Problems.Mlp("kfac", new int[] {50, 128, 128, 10}, Losses.CROSS_ENTROPY, 50_000).build();
        posterior = fit(problem.data());
        test = Problems.gaussian(new Random(Problems.SEED + 1), 10_000, 50, 1.0);
        if (!Double.isFinite(posterior.logMarginalLikelihood())) {
            throw new IllegalStateException("log marginal likelihood is not finite");
        }
    }

    private Laplace fit(Dataset data) throws IOException {
        return Laplace.fit(problem.model(), Losses.CROSS_ENTROPY, data, problem.theta(),
                new Laplace.Options(Structure.KRON, Subset.ALL, CurvatureType.GGN, new double[] {1.0}, 1.0, MemoryBudget.defaultBudget()),
                ProgressListener.NONE);
    }

    /** KFAC factors of all layers on 50,000 samples, eigen-decompositions, and log Z. */
    @Benchmark
    public double kfacLaplace() throws IOException {
        return fit(problem.data()).logMarginalLikelihood();
    }

    /** GLM predictive (probit) for 10,000 inputs. */
    @Benchmark
    public INDArray predictive() {
        return GlmPredictive.predict(posterior, test, 0, 0, ProgressListener.NONE).mean();
    }
}
