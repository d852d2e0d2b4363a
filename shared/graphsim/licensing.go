package graphsim

// licensingRoutes are the endpoints of this file.
var licensingRoutes = []route{}
