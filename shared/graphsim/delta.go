package graphsim

// deltaRoutes are the endpoints of this file.
var deltaRoutes = []route{}
