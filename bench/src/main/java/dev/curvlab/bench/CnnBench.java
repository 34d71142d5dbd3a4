package dev.curvlab.bench;

import dev.curvlab.core.Rowwise;
import dev.curvlab.core.Tensor;
import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import dev.curvlab.nn.products.LayerProducts;
import dev.curvlab.nn.products.ProductEngine;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
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
 * The digits CNN of the examples ([1, 8, 8] - conv 6x3x3 padding 1 tanh - max pool 2x2 - dense 10,
 * ce, N = 1,030) on the first {@code samples} digits: one Hessian-vector product, the full Hessian
 * and the input Jacobians {@code [n, 10, 64]}, each by the layer engine (the AUTO choice for CNNs)
 * and, for reference, by the generic engine ({@code *Generic}). PyTorch's figures for the same network come from {@code bench/cnn_torch.py}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx8g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class CnnBench {

    /** The network of the digits example. */
    static Sequential network() {
        return Sequential.imageBuilder(1, 8, 8)
                .conv2d(6, new int[] {3, 3}, null, new int[] {1, 1}, Activation.TANH)
                .maxPool2d(new int[] {2, 2}, null)
                .flatten()
                .dense(10, Activation.IDENTITY)
                .build();
    }

    /** Model, data, parameters and one direction. */
    @State(Scope.Benchmark)
    public static class Cnn {
        @Param({"1000"})
        public int samples;

        /** Columns per block of the full Hessian; 0 lets FullHessian choose. */
        @Param({"0"})
        public int block;

        Sequential model;
        Dataset data;
        INDArray theta;
        INDArray v;
        HessianOperator operator;
        HessianOperator generic;
        LayerProducts layers;

        @Setup(Level.Trial)
        public void setup() {
            model = network();
            data = Datasets.digits().rows(0, samples);
            theta = model.initialParameters(1);
            Nd4j.getRandom().setSeed(2);
            v = Nd4j.randn(DataType.DOUBLE, model.parameterCount(), 1);
            operator = new HessianOperator(model, Losses.CROSS_ENTROPY, data, theta, 0);
            generic = (HessianOperator) new HessianOperator(model, Losses.CROSS_ENTROPY, data, theta, 0).useEngine(ProductEngine.GENERIC);
            layers = new LayerProducts(model, Losses.CROSS_ENTROPY);
        }
    }

    /** One Hessian-vector product {@code H v} (the layer engine's module-chain path, the AUTO choice). PyTorch: double backward. */
    @Benchmark
    public void hvp(Cnn s, Blackhole bh) {
        bh.consume(s.operator.matmat(s.v));
    }

    /** The same product on the generic engine (forward-over-reverse through the autodiff primitives), for reference. */
    @Benchmark
    public void hvpGeneric(Cnn s, Blackhole bh) {
        bh.consume(s.generic.matmat(s.v));
    }

    /** The dense Hessian [N, N] by the AUTO method (blocks of Hessian-vector products on the layer engine). PyTorch: its row loop. */
    @Benchmark
    @Warmup(iterations = 1, time = 1)
    @Measurement(iterations = 2, time = 1)
    public void fullHessian(Cnn s, Blackhole bh) throws IOException {
        FullHessianBench.consume(FullHessian.compute(s.operator, FullHessian.Options.defaults().withBlockSize(s.block)), bh);
    }

    /** The dense Hessian by blocks on the generic engine (the former AUTO choice); minutes on a loaded machine, so one iteration. */
    @Benchmark
    @Warmup(iterations = 0)
    @Measurement(iterations = 1, time = 1)
    public void fullHessianGeneric(Cnn s, Blackhole bh) throws IOException {
        FullHessianBench.consume(FullHessian.compute(s.generic, FullHessian.Options.defaults().withMethod(HessianMethod.BLOCKED)), bh);
    }

    /** Per-image Jacobians [n, 10, 64] of the 10 logits w.r.t. the 64 pixels by the layer engine (what {@code curvlab jacobian} runs). PyTorch: vmap(jacrev). */
    @Benchmark
    public void inputJacobian(Cnn s, Blackhole bh) {
        bh.consume(s.layers.inputJacobians(s.theta, s.data.x()));
    }

    /** The same Jacobians by the generic engine ({@code Rowwise.jacobian}), for reference. */
    @Benchmark
    public void inputJacobianGeneric(Cnn s, Blackhole bh) {
        Tensor th = Tensor.of(s.theta);
        Tensor x = Tensor.of(s.data.x().reshape('c', new long[] {s.data.n(), 64}));
        bh.consume(Rowwise.jacobian(z -> s.model.forward(th, z)).apply(x).array());
    }
}
