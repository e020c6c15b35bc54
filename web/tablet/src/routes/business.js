// Routes of the business wizards and vouchers.
export default [];
