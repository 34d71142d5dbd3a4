package dev.curvlab.bench;

import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
 * Per-sample derivatives of row-wise functions, the whole batch in one pass ({@link Rowwise}).
 *
 * <ul>
 * <li>{@link #f4Jacobian}: Jacobians {@code [n, 4, 3]} of the seed's {@code func_f4}
 *     {@code (x0, 5 x2, 4 x1^2 - 2 x2, x2 sin x0)}, x uniform on [0, 1), {@code Rowwise.jacobian} (AUTO).
 *     PyTorch: {@code jacobian(lambda x: f4(x).sum(0), X, vectorize=True)}, 2.7 ms for n = 10,000
 *     (the seed's per-sample loop: 3.5 s).</li>
 * <li>{@link #sinHessian}: Hessians {@code [n, 3, 3]} of {@code sin(x0 x1 x2)}, {@code Rowwise.hessian}.
 *     PyTorch: no anchor figure (the seed's test loops {@code hessian} per sample).</li>
 * <li>{@link #mlpInputJacobian}: Jacobians {@code [4096, 8, 16]} of an MLP 16-64-64-8 (tanh) with respect
 *     to its inputs, {@code Rowwise.jacobian(x -> model.forward(theta, x)).apply(X)}, X randn.
 *     PyTorch: {@code jacobian(lambda x: model(x).sum(0), X, vectorize=True)}, 48 ms.</li>
 * </ul>
 *
 * <p>Five 1-s warm-up iterations: the engine's per-op paths take several seconds of JIT before
 * times settle (3 were not enough in trial runs).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx8g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class JacobianBench {

    /** A batch {@code [n, 3]} uniform on [0, 1). */
    @State(Scope.Benchmark)
    public static class Points {
        @Param({"1000", "10000"})
        public int n;

        Tensor x;

        @Setup(Level.Trial)
        public void setup() {
            x = Tensor.of(Problems.uniform(new Random(Problems.SEED), n, 3));
        }
    }

    /** MLP 16-64-64-8 (tanh), seeded parameters, inputs {@code [4096, 16]} randn. */
    @State(Scope.Benchmark)
    public static class Network {
        Sequential model;
        Tensor theta;
        Tensor x;

        @Setup(Level.Trial)
        public void setup() {
            model = Sequential.mlp(new int[] {16, 64, 64, 8}, Activation.TANH);
            theta = Tensor.of(model.initialParameters(Problems.SEED));
            x = Tensor.of(Problems.gaussian(new Random(Problems.SEED), 4096, 16, 1.0));
        }
    }

    /** Per-sample Jacobians {@code [n, 4, 3]} of f4. */
    @Benchmark
    public void f4Jacobian(Points s, Blackhole bh) {
        consume(Rowwise.jacobian(Problems::f4).apply(s.x), bh);
    }

    /** Per-sample Hessians {@code [n, 3, 3]} of sin(x0 x1 x2). */
    @Benchmark
    public void sinHessian(Points s, Blackhole bh) {
        consume(Rowwise.hessian(Problems::sinProduct).apply(s.x), bh);
    }

    /** Per-sample input Jacobians {@code [4096, 8, 16]} of the MLP. */
    @Benchmark
    public void mlpInputJacobian(Network s, Blackhole bh) {
        consume(Rowwise.jacobian(z -> s.model.forward(s.theta, z)).apply(s.x), bh);
    }

    private static void consume(Tensor t, Blackhole bh) {
        bh.consume(t.array());
        Problems.release(t.array());
    }
}
