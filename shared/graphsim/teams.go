package graphsim

// teamsRoutes are the endpoints of this file.
var teamsRoutes = []route{}
