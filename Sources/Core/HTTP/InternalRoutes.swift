public import Hummingbird

/// Internal endpoints that live outside Core's services (the console's pages, the request log): the gateway asks
/// each in turn for a path under `/_cloudless/` before identifying a service. nil: not mine.
public protocol InternalRoutes: Sendable {
    func response(to request: Request, path: Substring, query: Substring) async -> Response?
}
