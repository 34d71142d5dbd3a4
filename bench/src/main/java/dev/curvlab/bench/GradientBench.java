package dev.curvlab.bench;

import dev.curvlab.core.ArrayScope;
import dev.curvlab.core.Autodiff;
import dev.curvlab.core.Tensor;
import dev.curvlab.core.TensorBiFunction;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.loss.Reduction;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One gradient and one Hessian-vector product of an MLP's mean loss with respect to its flat
 * parameters, on the anchor's small (N=1441) and medium (N=5699) problems; HVP time / gradient
 * time is the cost of one Hessian column in gradients.
 *
 * <ul>
 * <li>{@link #gradient}: {@code new ModelObjective(model, loss, data, MEAN).gradient(theta)}
 *     (reverse mode in an ArrayScope). PyTorch: {@code torch.autograd.grad(f(theta), theta)},
 *     0.6 ms (small) / 4.8 ms (medium).</li>
 * <li>{@link #hvp}: {@code Autodiff.hvp(objective).apply(theta, v)} (forward-over-reverse), v randn.
 *     PyTorch: {@code torch.autograd.functional.hvp} (double backward), 9 ms (small).</li>
 * </ul>
 *
 * <p>Five 1-s warm-up iterations: the engine's per-op paths take several seconds of JIT before
 * times settle (3 were not enough in trial runs).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx8g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class GradientBench {
    @Param({"small", "medium"})
    public String problem;

    private ModelObjective objective;
    private INDArray thetaArray;
    private Tensor theta;
    private Tensor v;
    private TensorBiFunction hvp;

    @Setup(Level.Trial)
    public void setup() {
        Problems.Instance p = Problems.named(problem).build();
        objective = new ModelObjective(p.model(), p.problem().loss(), p.data(), Reduction.MEAN);
        thetaArray = p.theta();
        theta = Tensor.of(thetaArray);
        v = Tensor.of(Problems.gaussian(new Random(Problems.SEED + 1), 1, (int) thetaArray.length(), 1.0).reshape(thetaArray.length()));
        hvp = Autodiff.hvp(objective);
    }

    /** Gradient {@code [N]} of the mean loss. */
    @Benchmark
    public void gradient(Blackhole bh) {
        INDArray g = objective.gradient(thetaArray);
        bh.consume(g);
        Problems.release(g);
    }

    /** One Hessian-vector product {@code H v}, {@code [N]}. */
    @Benchmark
    public void hvp(Blackhole bh) {
        INDArray hv = ArrayScope.run(() -> hvp.apply(theta, v)).array();
        bh.consume(hv);
        Problems.release(hv);
    }
}
