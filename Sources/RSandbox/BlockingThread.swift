import Glibc

/// Runs blocking work on a thread of its own and resumes the awaiting task with its result, so
/// that no thread of the cooperative pool is ever blocked in poll or waitid.
enum BlockingThread {
    private final class Job: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (cont: CheckedContinuation<T, Never>) in
            let job = Job { cont.resume(returning: work()) }
            let ctx = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let r = pthread_create(&thread, nil, { raw in
                let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                job.body()
                return nil
            }, ctx)
            if r != 0 {
                // No thread to be had: do the work here rather than never resuming.
                Unmanaged<Job>.fromOpaque(ctx).takeRetainedValue().body()
            } else {
                pthread_detach(thread)
            }
        }
    }
}
